"""Where people work: the JupyterLab of one machine (instructor or trainee mode, ``local_lab``) and the course hub
for a cohort (``machine``: accounts, folders and JupyterHub; ``jupyterhub_config``: the hub's configuration).

May import: ``grading``, ``site``, ``topics`` and ``paths``. Must never: import ``lessons`` or ``cli``.
"""
