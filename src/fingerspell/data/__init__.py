"""Read, index, query, check, fix, split and export ASL letter datasets."""
from fingerspell.data.index import Box, Dataset, Sample, SampleRecord, dataset_names
from fingerspell.data.importer import import_dataset

__all__ = ["Box", "Dataset", "Sample", "SampleRecord", "dataset_names", "import_dataset"]
