"""Run the Pulumi program offline under Pulumi mocks: tests, `make preview` and the drill share this."""
