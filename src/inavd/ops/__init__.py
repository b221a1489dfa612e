"""Operations endpoint: liveness, readiness, Prometheus metrics, status JSON and page."""
