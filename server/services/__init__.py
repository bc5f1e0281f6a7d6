"""Services: the work behind the views, one module per concern."""
