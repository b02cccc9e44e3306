"""Work orders: customers, sites, line records, orders and their lifecycle."""
