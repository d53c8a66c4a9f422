"""Locust users of bench/load.py (not a bench itself): members of 3 tenants on the API, by bearer token.

``ReadingMember`` browses and searches; ``PostingMember`` also replies, each reply carrying a
unique marker. The plan (tenants, tokens, topics) comes from the JSON file named by
``KINDRED_LOAD_PLAN``; at the end every status code seen and every accepted marker go to
``KINDRED_LOAD_OUT`` for the bench to check against the database. The users are locust's
``FastHttpUser`` (geventhttpclient): the load generator shares the server's cores, and it spends a
fraction of the CPU per request that the requests-based ``HttpUser`` does.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from collections import Counter
from typing import Any

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

PLAN: dict[str, Any] = json.loads(open(os.environ["KINDRED_LOAD_PLAN"]).read())  # noqa: SIM115
STATUSES: Counter[int] = Counter()
ACCEPTED: list[dict[str, Any]] = []
SEARCH_WORDS = ["fatigue", "sleep", "infusion", "diet", "pain", "walking", "doctor", "tired"]


class _Member(FastHttpUser):
    abstract = True
    wait_time = between(0.0, 0.05)

    def on_start(self) -> None:
        self.tenant = random.choice(PLAN["tenants"])
        self.token = random.choice(self.tenant["tokens"])
        self.headers = {"Host": self.tenant["host"], "Authorization": f"Bearer {self.token}"}

    def _get(self, path: str, name: str) -> None:
        with self.client.get(path, headers=self.headers, name=name, catch_response=True) as response:
            STATUSES[response.status_code] += 1
            if response.status_code != 200:
                response.failure(f"{response.status_code}")

    def browse(self) -> None:
        topic = random.choice(self.tenant["topics"])
        choice = random.random()
        if choice < 0.35:
            self._get(f"/api/v1/topics/{topic}/", "topic")
        elif choice < 0.6:
            self._get(f"/api/v1/communities/{self.tenant['community']}/", "community")
        elif choice < 0.8:
            self._get(f"/api/v1/communities/{self.tenant['community']}/topics/", "topics")
        else:
            self._get("/api/v1/communities/", "communities")

    def search(self) -> None:
        self._get(f"/api/v1/search/topics/?q={random.choice(SEARCH_WORDS)}", "search")


class ReadingMember(_Member):
    @task(4)
    def browsing(self) -> None:
        self.browse()

    @task(1)
    def searching(self) -> None:
        self.search()


class PostingMember(_Member):
    @task(4)
    def browsing(self) -> None:
        self.browse()

    @task(1)
    def searching(self) -> None:
        self.search()

    @task(1)
    def posting(self) -> None:
        topic = random.choice(self.tenant["topics"])
        marker = f"load-{uuid.uuid4().hex}"
        body = {"body": f"Same here, rest helps. {marker}"}
        with self.client.post(
            f"/api/v1/topics/{topic}/posts/", json=body, headers=self.headers, name="post", catch_response=True
        ) as response:
            STATUSES[response.status_code] += 1
            if response.status_code == 201:
                ACCEPTED.append({"tenant": self.tenant["slug"], "marker": marker})
            elif response.status_code == 429:
                response.success()  # the posting rate limit said no: refused, not accepted
            else:
                response.failure(f"{response.status_code}")


@events.test_stop.add_listener
def _write_out(**_kwargs: Any) -> None:
    with open(os.environ["KINDRED_LOAD_OUT"], "w") as out:
        json.dump({"statuses": {str(code): n for code, n in STATUSES.items()}, "accepted": ACCEPTED}, out)
