import cProfile
import io
import json
import os
import pstats
import time
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from yaji.bench.scenarios.flashsale import _listed_on_sale, _ready_buyer
from yaji.bench.seeding import users_seed

N = int(os.environ.get("PROF_N", "150"))


@pytest.mark.django_db(transaction=True)
def test_profile_flash() -> None:
    item = _listed_on_sale(tag="prof", units=N + 20)
    users = users_seed(count=N + 10, tag="prof", advance=lambda n: None)
    addr = [_ready_buyer(u.id, item.variant_id, cart=False) for u in users]
    client = Client()
    path = f"/api/v1/flash-sales/{item.sale_id}/orders"

    def post(i):
        r = client.post(
            path,
            data=json.dumps({"address_id": addr[i]}),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
            HTTP_AUTHORIZATION=f"Bearer {users[i].token}",
        )
        assert r.status_code == 201, r.content
        return r

    for i in range(5):
        post(i)
    with CaptureQueriesContext(connection) as cq:
        r = post(5)
    print("\nQUERIES", len(cq))
    for q in cq.captured_queries:
        print("  ", q["sql"][:160])
    print(r.content[:600])
    prof = cProfile.Profile(time.process_time)
    t0 = time.process_time()
    prof.enable()
    for i in range(6, N + 6):
        post(i)
    prof.disable()
    print("CPU ms/placement", (time.process_time() - t0) * 1000 / N)
    prof.dump_stats(os.environ.get("PROF_OUT", "/tmp/trade_prof/p.prof"))
    s = io.StringIO()
    st = pstats.Stats(prof, stream=s).sort_stats("cumulative")
    st.print_stats(60)
    st.sort_stats("tottime").print_stats(30)
    open("/tmp/trade_prof/out.txt", "w").write(s.getvalue())
