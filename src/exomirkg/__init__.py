"""exomirkg: knowledge graph of exosomal miRNAs, the tumour microenvironment and drug resistance."""

__version__ = "0.1.0"
