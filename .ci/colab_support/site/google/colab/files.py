"""Stand-in for ``google.colab.files``: ``download`` copies to $COLAB_STANDIN_DOWNLOADS (Colab
starts a browser download); ``upload`` takes the files of $COLAB_STANDIN_UPLOAD (Colab waits
for the learner to choose files) and, like Colab, writes them to the working folder."""

import os
import shutil

from google.colab import StandInPrompt, _log


def download(filename):
    _log("files.download", filename=os.path.abspath(filename))
    if not os.path.exists(filename):
        raise FileNotFoundError(f"Cannot find file: {filename}")  # Colab's own message
    target = os.environ.get("COLAB_STANDIN_DOWNLOADS")
    if target:
        os.makedirs(target, exist_ok=True)
        shutil.copy(filename, os.path.join(target, os.path.basename(filename)))


def upload(target_dir=""):
    source = os.environ.get("COLAB_STANDIN_UPLOAD")
    _log("files.upload", source=source)
    if not source:
        raise StandInPrompt(
            "google.colab stand-in: files.upload() waits for the learner to choose files; this "
            "run has no learner (set COLAB_STANDIN_UPLOAD=DIR to play one who uploads DIR's files)."
        )
    uploaded = {}
    for name in sorted(os.listdir(source)):
        with open(os.path.join(source, name), "rb") as handle:
            uploaded[name] = handle.read()
        local = os.path.join(target_dir, name)
        stem, ext = os.path.splitext(local)
        n = 1
        while os.path.exists(local):  # Colab keeps an existing file and renames the new one
            local = f"{stem} ({n}){ext}"
            n += 1
        with open(local, "wb") as handle:
            handle.write(uploaded[name])
        print(f"Saving {name} to {local}")
    return uploaded
