"""The locust side of bench/load_scenario.sh: the users of bench/load_scenario.yaml, each
waiting between 0.5 and 1.5 s after each request for the static file. Pick the class by name:

  locust -f bench/locustfile_scenario.py FastUser --headless -u 1000 -r 1000 -t 30s \
      --host http://127.0.0.1:PORT --only-summary

FastUser (geventhttpclient) is the fair peer; RequestsUser is locust's default HttpUser
(python-requests), what most locustfiles use.
"""
from locust import HttpUser, between, task
from locust.contrib.fasthttp import FastHttpUser


class FastUser(FastHttpUser):
    wait_time = between(0.5, 1.5)

    @task
    def index(self):
        self.client.get("/index.html")


class RequestsUser(HttpUser):
    wait_time = between(0.5, 1.5)

    @task
    def index(self):
        self.client.get("/index.html")
