"""Live papers: the claim schema, reproduction, verdicts, badges and reports."""
