"""The server's job machinery: the SQLite store, the queue, the GPU worker's supervisor and the worker process.

* :mod:`vidstudio.jobs.store`: job and asset records in SQLite in the data folder (they survive restarts);
* :mod:`vidstudio.jobs.wire`: framed messages over the socket between the server and its worker;
* :mod:`vidstudio.jobs.supervisor`: starts the worker subprocess, reads what it says, notices when it dies and
  starts a new one;
* :mod:`vidstudio.jobs.manager`: the queue (one job at a time on the worker), cancellation, progress, ETAs and
  the event stream;
* :mod:`vidstudio.jobs.executor`: the manager for a pool of workers (``vidstudio serve --ray``): one job per
  worker at a time, placement by loaded model, retries after a worker's death; no Ray in it;
* :mod:`vidstudio.jobs.ray_pool`: that pool as Ray actors, each running the worker's job code (the only module
  that imports Ray, and only when a pool starts);
* :mod:`vidstudio.jobs.worker`: the worker process's entry point (``python -m vidstudio.jobs.worker``), the only
  part that runs nodes and so, through the backend, loads torch.

Only the worker's execution path reaches torch, through :mod:`vidstudio.nodes` -> :mod:`vidstudio.backend`,
lazily; the server process never imports it.
"""
