"""Code that runs beside student code, inside the sandbox.

Everything in this package runs in the confined zygote or in the sandboxes it
forks, next to a submission that may be hostile. It imports only the standard
library, numpy, torch and its own modules (by relative import), never the
trusted side: inside the sandbox it is mounted on its own as
``torchgrade_sandbox``, and nothing else of the grader is there to import.

- ``zygote``: the warm process that forks one sandbox per submission;
- ``confine``: what each forked sandbox does to itself before any student code
  runs (namespaces, a private scratch area, limits, dropped privileges);
- ``server``: loads the submission and answers the trusted side's requests;
- ``protocol``: the wire format, shared with the trusted side, which uses it
  to decode (and so to distrust) every reply.
"""
