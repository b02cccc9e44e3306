"""The technician's phone app API, versioned under /mobile/v1."""
