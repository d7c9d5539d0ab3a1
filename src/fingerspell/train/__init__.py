"""fingerspell.train"""
