"""placeholder"""

from flask import Blueprint

bp = Blueprint("subject", __name__)
