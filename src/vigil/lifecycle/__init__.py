"""Working on runs and models as a team: following a live run (`live`), reproducing a run on
another machine (`reproduce`) and the retraining cadence a model's drift history suggests
(`cadence`)."""
