"""The readiness diagnostic: an anonymous questionnaire per team, placed on a five-stage continuum."""
