// placeholder: implemented in its module's commit
