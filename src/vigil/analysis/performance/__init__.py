"""Model performance, computed: metrics, CBPE estimation without labels, fairness, segments, and
the reports that hold them. Pure: arrays and Arrow tables in, typed results out."""
