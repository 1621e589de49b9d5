"""Local stand-ins for AWS services, for tests and demos; never deployed."""
