"""What must hold of the model: the property catalog, its predicates and
explanations, fairness for liveness, the scopes the explorer searches, and user
properties."""
