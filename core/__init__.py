"""What every package stands on: config, database, errors, auth, audit, clock, i18n, jobs.

The Flask extensions shared by the app factory (:mod:`application`) live here.
"""

from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
babel = Babel()
