"""fingerspell.models"""
