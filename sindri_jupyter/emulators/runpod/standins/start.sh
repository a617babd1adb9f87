"""Stand-in for a RunPod image's /start.sh: sshd and Jupyter would start here."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "bin"))
import standin_common as common  # noqa: E402

services = ["sshd"] if os.environ.get("PUBLIC_KEY") else []
if os.environ.get("JUPYTER_PASSWORD"):
    services.append("jupyter")
common.record("start.sh ran: started " + (", ".join(services) or "nothing"))
common.hold()
