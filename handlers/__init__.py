"""magento-dr regional failover handler (AWS Lambda; never imports Pulumi)."""
