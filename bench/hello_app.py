"""The floor of the page benchmark: a bare Flask « hello », served by the same gunicorn settings
(`gunicorn -c gunicorn.conf.py bench.hello_app:app`)."""

from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello():
    return "hello"
