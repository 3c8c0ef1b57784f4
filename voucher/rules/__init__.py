"""Dated versions of a programme's rule parameters (issue 19 §3) and replaying a drafted change over
past decisions (§4). A decision stores the version it used and a snapshot of its inputs."""
