"""Stand-in for ``google.colab.userdata`` (Colab secrets): $COLAB_STANDIN_SECRETS, a JSON object."""

import json
import os

from google.colab import _log


class SecretNotFoundError(Exception):
    def __init__(self, key):
        super().__init__(f"Secret {key} does not exist.")


class NotebookAccessError(Exception):
    def __init__(self, key):
        super().__init__(f"Notebook does not have access to secret {key}")


def get(key):
    secrets = json.loads(os.environ.get("COLAB_STANDIN_SECRETS") or "{}")
    _log("userdata.get", key=key, found=key in secrets)
    if key not in secrets:
        raise SecretNotFoundError(key)
    return secrets[key]
