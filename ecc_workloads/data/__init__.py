"""Corpora: loading and cleaning (`corpus`), stratified splits, packaged data sets, data cards."""
