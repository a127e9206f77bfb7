"""ATT&CK and other reference data: loaders, the processed catalog, `refdata update`."""
