"""The pictures and statistics behind the findings: ``sb3doctor report``, ``compare`` and ``plot``.

Needs the ``[report]`` extra (scipy for the statistics, matplotlib for ``plot``); nothing here is
imported by ``import sb3doctor`` or ``sb3doctor analyze``.
"""
