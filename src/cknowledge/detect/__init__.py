"""Detection of the machine and of installed software.

- :mod:`.platform` — OS, distribution, CPU, memory, GPUs, Python; a stable fingerprint
  (``platform_facts()``, ``fingerprint(facts)``).
- :mod:`.soft` — software detection as data: a ``soft`` entry's ``detect`` section names
  executables (or a Python distribution) and how to read their version; ``detect(entry)``
  returns what is installed, newest first.
- :mod:`.scan` — the PATH walk and the per-entry ``detect.py`` hooks.
- :mod:`.results` — detected versions kept under ``$CK_HOME/detect`` and reused while the
  binary is unchanged.
- :mod:`.pypkg` — Python distributions as seen by a given interpreter.

Nothing here is imported by ``ck --version``; the automations import it when called.
"""
