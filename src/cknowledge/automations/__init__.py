"""The built-in automations, one module each (see ``kernel.registry.BUILTIN``)."""
