"""NuVs: discovery of novel viruses in a sample (../shared/docs/workflows.md §2).

Reads that match neither the reference nor the host are assembled into contigs; their open reading frames are
translated and searched against the installed profile HMMs (vFam). The stored result, Virtool's:

    {"hits": [{"index": 0, "sequence": "ACGT…",
               "orfs": [{"index": 0, "frame": 1, "strand": -1, "pos": [12, 915], "pro": "MVAV…",
                         "hits": [{"hit": "<hmm id>", "full_e": 1.2e-30, "full_score": 105.3, "full_bias": 0.1,
                                   "best_e": 2e-30, "best_bias": 104.9, "best_score": 0.1}]}]}]}

with `assembly.fa.gz`, `orfs.fa.gz` and `hmm.tsv` in the analysis's folder (`analyses.selectors.analysis_path`).
"""
