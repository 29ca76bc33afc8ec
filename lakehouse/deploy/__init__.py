"""Running the same definitions on real infrastructure: executors and deployment configs."""
