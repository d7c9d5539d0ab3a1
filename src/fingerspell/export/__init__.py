"""fingerspell.export"""
