"""JupyterHub configuration of the course hub on one machine (started by ``massage-course hub``; see machine.py).

Everything site-specific comes from the settings file machine.py writes (MASSAGE_COURSE_HUB_SETTINGS).
"""

import json
import os
import pwd
import shutil
from pathlib import Path

from massage_course.hub.machine import chown_tree, give_new_notebooks
from massage_course.hub.sign_up import CODES_FILE, PASSWORDS_FILE

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)
settings = json.loads(Path(os.environ["MASSAGE_COURSE_HUB_SETTINGS"]).read_text())
state = Path(settings["hub_state"])
instructors, trainees = set(settings["instructors"]), set(settings["trainees"])

c.JupyterHub.bind_url = f"http://{settings['ip']}:{settings['port']}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = settings["hub_port"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings['proxy_api_port']}"
c.ConfigurableHTTPProxy.command = [settings["proxy"]]
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")

# Pilot authentication: only roster names can sign in, and an account's first password is accepted only with the
# one-time sign-up code its instructor handed out (sign_up.py); the password then becomes the person's. In production
# use the hospital's single sign-on instead (deploy/OPERATIONS.md).
c.JupyterHub.authenticator_class = "massage_course.hub.sign_up.SignUpCodeAuthenticator"
c.SignUpCodeAuthenticator.create_users = False
c.SignUpCodeAuthenticator.dbm_path = str(state / PASSWORDS_FILE)
c.SignUpCodeAuthenticator.codes_path = str(state / CODES_FILE)
c.SignUpCodeAuthenticator.min_password_length = 10
c.Authenticator.allowed_users = instructors | trainees

# Two groups; instructors may see who is in the cohort and who is active, nothing of the trainees' servers.
c.JupyterHub.load_groups = {"instructors": {"users": sorted(instructors)}, "trainees": {"users": sorted(trainees)}}
c.JupyterHub.load_roles = [{"name": "instructor", "groups": ["instructors"],
                            "scopes": ["list:users", "read:users:activity", "read:servers", "read:groups"]}]

# The built book beside the hub, at /services/book/ (public pages; served by an unprivileged account).
c.JupyterHub.services = [{
    "name": "book", "url": f"http://127.0.0.1:{settings['book_port']}", "display": True, "oauth_no_confirm": True,
    "command": [settings["python"], "-m", "massage_course", "serve-book", f"--port={settings['book_port']}"],
    "user": "nobody",
}]
if settings.get("admin_token"):
    # For automation (enrolment scripts, the end-to-end test): only when MASSAGE_COURSE_HUB_ADMIN_TOKEN was set.
    c.JupyterHub.services.append({"name": "course-admin", "api_token": settings["admin_token"]})
    c.JupyterHub.load_roles.append({"name": "course-admin", "services": ["course-admin"],
                                    "scopes": ["admin:users", "admin:servers", "tokens", "list:users"]})

# Each person's JupyterLab runs as their own account, from the course's Python environment, in their home folder.
c.Spawner.cmd = [str(Path(settings["python_bin"]) / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 60



def prepare_server(spawner):
    """Per role: the Jupyter settings folder, and for instructors alone the gradebook's address. A trainee also gets
    their own copy of the interactive notebooks the first time."""
    name = spawner.user.name
    role = "instructor" if name in instructors else "trainee"
    env = {
        "PATH": os.pathsep.join([settings["python_bin"], "/usr/local/bin", "/usr/bin", "/bin"]),
        "JUPYTER_CONFIG_PATH": settings["jupyter"][role],
        "MASSAGE_COURSE_EXCHANGE": settings["exchange"],
    }
    if role == "instructor" and settings.get("gradebook_url"):
        env["MASSAGE_COURSE_GRADEBOOK_URL"] = settings["gradebook_url"]
    # A new dict rather than a change in place: nothing set for one person can reach another's server.
    spawner.environment = {**spawner.environment, **env}
    if role == "instructor":  # nbgrader's formgrader works only on a course inside the server's root folder
        spawner.notebook_dir = settings["course"]
    account = pwd.getpwnam(name)
    if role == "trainee":
        notebooks = Path(account.pw_dir) / "notebooks"
        if not notebooks.exists() and not notebooks.is_symlink():
            shutil.copytree(settings["notebooks"], notebooks, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
            chown_tree(notebooks, account.pw_uid, account.pw_gid)
        else:
            give_new_notebooks(name, Path(settings["notebooks"]), notebooks)


c.Spawner.pre_spawn_hook = prepare_server
