"""fingerspell.infer"""
