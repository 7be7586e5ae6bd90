FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=config.settings.production
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN DJANGO_SETTINGS_MODULE=config.settings.production SECRET_KEY=collectstatic-only \
    python manage.py collectstatic --no-input \
 && DJANGO_SETTINGS_MODULE=config.settings.production SECRET_KEY=collectstatic-only \
    python manage.py compile_translations
RUN useradd --system --uid 1000 app && chown -R app /app
USER app
EXPOSE 8000
