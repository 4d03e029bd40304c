import SNN

print("spike-raster: placeholder")
