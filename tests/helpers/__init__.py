"""What the tests share: paths to the data, the engine set-up, the recovery child process."""
