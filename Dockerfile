FROM python:3.11-slim
WORKDIR /srv
COPY requirements.lock requirements-data.lock pyproject.toml ./
RUN pip install --no-cache-dir -r requirements.lock \
    && pip install --no-cache-dir --no-deps -r requirements-data.lock
COPY . .
RUN pip install --no-cache-dir --no-deps -e . \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin mttq
ENV ENVIRONMENT=production SEED_DEMO_USERS=false
# An unprivileged user: the code is root's and read-only to the app.
USER mttq
EXPOSE 8000
# Forwarded headers are handled by the app from TRUSTED_PROXIES, not by uvicorn's own default.
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000", "--no-proxy-headers"]
