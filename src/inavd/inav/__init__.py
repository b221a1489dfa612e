"""iNAV: daily-reset and holdings models, premium/discount, rebalance flow, decay math."""
