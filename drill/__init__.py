"""Regional-failover drill: the emulator drill (make drill) and the real-account readiness check."""
