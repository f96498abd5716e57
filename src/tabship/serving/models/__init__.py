"""The models a server holds: the local mirror of the registry it serves from
(``mirror``), the pass that copies the registry into it (``sync``), the side process
that runs those passes for a live server (``sync_worker``), and the pool of loaded,
checked versions that answer requests (``pool``)."""
