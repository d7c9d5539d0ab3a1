"""Read, index, query, check, fix, split and export ASL letter datasets."""
from fingerspell.data.index import Box, Dataset, Sample, SampleRecord, dataset_names

__all__ = ["Box", "Dataset", "Sample", "SampleRecord", "dataset_names"]
