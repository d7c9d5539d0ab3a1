"""Read, index, query, check, fix, split and export ASL letter datasets."""
from fingerspell.data.index import Box, Dataset, Sample, SampleRecord, dataset_names
from fingerspell.data.export import export_dataset
from fingerspell.data.importer import import_dataset
from fingerspell.data.info import dataset_info, list_datasets

__all__ = ["Box", "Dataset", "Sample", "SampleRecord", "dataset_names", "import_dataset",
           "export_dataset", "dataset_info", "list_datasets"]
