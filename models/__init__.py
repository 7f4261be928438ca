"""Tortoise models, one module per area. Every module is listed here once."""

MODEL_MODULES: tuple[str, ...] = (
    "models.enterprises",
    "models.people",
    "models.projects",
    "models.officers",
    "models.audit",
    "models.outbox",
    "models.callbacks",
    "models.applications",
    "models.project_details",
    "models.notices",
    "models.safety",
    "models.funds",
)
