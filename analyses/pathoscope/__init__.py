"""PathoScope as Virtool runs it, in three parts: `sam` reads bowtie2's SAM into flat arrays, `em` eliminates
subtraction alignments and reassigns reads (EM, best hits, coverage), `report` makes the stored hits."""
