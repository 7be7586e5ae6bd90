from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = "Screening and enrollment"
