"""Research use cases: studies of the data that trade nothing (``pairs scan``)."""
