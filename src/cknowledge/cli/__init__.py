"""The ``ck`` and ``cb`` commands: argv → request → kernel → text or JSON."""
