"""Reading pictures for the classifiers, exporting them and serving them."""
