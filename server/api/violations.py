"""The violation catalogue, public and cacheable (the PWA keeps it for offline use)."""

from flask import jsonify

from sync.schemas import ViolationSchema

from .. import catalogue
from . import bp

_many = ViolationSchema(many=True)


@bp.get("/violations")
def list_violations():
    resp = jsonify({"violations": _many.dump(catalogue.violations())})
    resp.cache_control.public = True
    resp.cache_control.max_age = 3600
    return resp
